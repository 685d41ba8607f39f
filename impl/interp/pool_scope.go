package interp

import "github.com/mpconform/mpconform/impl/mp"

// poolScopeOps is pool.with: its body runs inside `with pool:`, and the pool
// is terminated when the body ends, however it ends (mp's Pool.Use).
func poolScopeOps() map[string]Op {
	return map[string]Op{"pool.with": {Fields: on(map[string]Field{"body": {Steps, true}}), Blocks: true,
		On: []string{"pool"}, Run: func(c *Call) (any, error) {
			p, err := poolOf(c)
			if err != nil {
				return nil, err
			}
			return nil, p.Use(func(*mp.Pool) error {
				c.r.steps(c.s.body, c.env)
				return nil
			})
		}}}
}
