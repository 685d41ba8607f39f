package catalogue

import (
	"fmt"
	"strconv"
	"strings"
)

// OutsideVersions begins the reason a behaviour is unsupported by a driver
// that follows a CPython version outside its Versions (or names none), after
// "unsupported: ": the tests of a driver accept that outcome for such a
// behaviour, and no other skip.
const OutsideVersions = "the rule holds for CPython "

// InVersions reports whether version ("3.11", "3.13.0": major.minor counts)
// lies in the range r (Behaviour.Versions; "" holds every version). An
// error says what in r, or in version, is not a version or a comparison.
func InVersions(r, version string) (bool, error) {
	v, err := parseVersion(version)
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(r) == "" {
		return true, nil
	}
	in := true
	for _, c := range strings.Split(r, ",") {
		c = strings.TrimSpace(c)
		i := strings.IndexFunc(c, func(r rune) bool { return r >= '0' && r <= '9' })
		if i <= 0 {
			return false, fmt.Errorf("version range %q: %q is not an operator and a version", r, c)
		}
		w, err := parseVersion(c[i:])
		if err != nil {
			return false, fmt.Errorf("version range %q: %v", r, err)
		}
		cmp := compare(v, w)
		switch strings.TrimSpace(c[:i]) {
		case "<":
			in = in && cmp < 0
		case "<=":
			in = in && cmp <= 0
		case ">":
			in = in && cmp > 0
		case ">=":
			in = in && cmp >= 0
		case "==":
			in = in && cmp == 0
		default:
			return false, fmt.Errorf("version range %q: unknown operator %q", r, c[:i])
		}
	}
	return in, nil
}

// parseVersion reads major.minor, ignoring a micro version and what follows
// it (3.13.0rc1).
func parseVersion(s string) ([2]int, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 3)
	if len(parts) < 2 {
		return [2]int{}, fmt.Errorf("%q is not a major.minor version", s)
	}
	var v [2]int
	for i := range v {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 {
			return [2]int{}, fmt.Errorf("%q is not a major.minor version", s)
		}
		v[i] = n
	}
	return v, nil
}

func compare(a, b [2]int) int {
	if a[0] != b[0] {
		return a[0] - b[0]
	}
	return a[1] - b[1]
}
