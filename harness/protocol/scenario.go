package protocol

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// CheckFeatures returns an error naming the first step of the scenario doc
// whose op, or one of whose fields, needs a feature that features lack (nil
// when there is none). The suites check a behaviour's scenarios with it, so that
// the features a behaviour declares are those its scenarios use. Steps are
// those of main, then of each program by name, with the steps that ops run
// themselves (repeat's body, wait_for's until); the schema has judged the
// rest, so an op the table does not know is skipped.
func CheckFeatures(doc []byte, features []Feature) error {
	var s struct {
		Programs map[string]struct{ Steps []any }
		Main     []any
	}
	if err := json.Unmarshal(doc, &s); err != nil {
		return err
	}
	c := checker(features)
	if err := c.steps("main", s.Main); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(s.Programs)) {
		if err := c.steps(name, s.Programs[name].Steps); err != nil {
			return err
		}
	}
	return nil
}

type checker []Feature

func (c checker) steps(path string, steps []any) error {
	for i, st := range steps {
		if err := c.step(path+"/"+strconv.Itoa(i), st); err != nil {
			return err
		}
	}
	return nil
}

func (c checker) step(path string, st any) error {
	m, _ := st.(map[string]any)
	name, _ := m["op"].(string)
	op, ok := Lookup(name)
	if !ok {
		return nil
	}
	if !op.OfferedBy(c) {
		return fmt.Errorf("%s: op %s needs %s; the behaviour declares %s", path, name, needs(op), join(c, ", "))
	}
	for _, f := range op.Fields {
		v, present := m[f.Name]
		switch {
		case !present:
		case f.Feature != "" && !slices.Contains(c, f.Feature):
			return fmt.Errorf("%s: %s with %s needs the feature %s; the behaviour declares %s", path, name, f.Name,
				f.Feature, join(c, ", "))
		case f.Kind == Steps:
			list, _ := v.([]any)
			if err := c.steps(path, list); err != nil {
				return err
			}
		case f.Kind == Step:
			if err := c.step(path+"/"+f.Name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// needs says which features offer op.
func needs(op Op) string {
	s := "the feature " + string(op.Families[0])
	if len(op.Families) > 1 {
		s = "one of the features " + join(op.Families, ", ")
	}
	if op.With != nil {
		s += " and " + join(op.With, ", ")
	}
	return s
}
