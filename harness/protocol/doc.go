// Package protocol is the op catalogue of the driver protocol (docs/protocol.md
// §6): every op a scenario step may name, with the features (op families) that
// offer it, its fields and their kinds, whether it may block, what it records and
// how it fails. It also lists the features and the error kinds of §8.
//
// The table is the one source of these facts. Everything else that knows the ops
// is generated from it or checked against it: `go generate ./harness/protocol`
// writes the ops part of harness/schema/scenario.schema.json, the §6 and §8
// tables of docs/protocol.md and fixtures/impls/cpython/ops.json (which the
// CPython driver reads); a test here fails when one of them is stale, a test in
// impl/interp when the reference driver's ops differ from the table, and
// suites/suite refuses a spec whose scenario uses an op outside the features its
// behaviour declares. To add an op, add it here, run go generate, implement it in
// the drivers.
//
// The table says what a step may look like, not what an op does: that is the
// prose of docs/protocol.md and the specs in suites/.
package protocol

//go:generate go run ./gen
