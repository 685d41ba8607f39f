//go:build mpfault

package mp

// ShmUntracked is the fault shmUntracked, for a mutant driver built with
// -tags mpfault: the calling process's segments are not registered with the
// shared-memory tracker.
var ShmUntracked = shmUntracked
