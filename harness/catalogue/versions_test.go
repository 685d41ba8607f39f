package catalogue

import "testing"

func TestInVersions(t *testing.T) {
	for _, c := range []struct {
		r, v string
		in   bool
	}{
		{"", "3.11", true},
		{">=3.13", "3.13", true},
		{">=3.13", "3.13.0", true},
		{">=3.13", "3.12.9", false},
		{"<3.13", "3.11.7", true},
		{"<3.13", "3.13", false},
		{">=3.8, <3.13", "3.9", true},
		{">=3.8,<3.13", "3.14", false},
		{"==3.11", "3.11.2", true},
		{">3.9", "3.10", true},
		{"<=3.10", "4.0", false},
	} {
		in, err := InVersions(c.r, c.v)
		if err != nil || in != c.in {
			t.Errorf("InVersions(%q, %q) = %v, %v; want %v", c.r, c.v, in, err, c.in)
		}
	}
	for _, c := range [][2]string{{"3.13", "3.11"}, {">=3", "3.11"}, {"~3.13", "3.11"}, {">=3.x", "3.11"}, {">=3.13", ""}, {">=3.13", "three"}} {
		if _, err := InVersions(c[0], c[1]); err == nil {
			t.Errorf("InVersions(%q, %q): no error", c[0], c[1])
		}
	}
}
