package mp_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/mpconform/mpconform/impl/mp"
)

// counter is a type a manager serves once registered: its state lives in
// the server, and proxies call its exposed methods by name.
type counter struct{ n int64 }

func (c *counter) Increment(by int64) int64 { c.n += by; return c.n }
func (c *counter) Get() int64               { return c.n }
func (c *counter) Secret() string           { return "not exposed" }

var _ = func() int {
	mp.RegisterManaged("example.counter", func() *counter { return &counter{} }, "increment", "get")
	return 0
}()

var produce = mp.Register("example.produce", func(q *mp.QueueProxy) error {
	for i := range 3 {
		if err := q.Put(context.Background(), i); err != nil {
			return err
		}
	}
	return nil
})

// A manager's Queue carries items between processes, in order.
func ExampleManager_Queue() {
	m, err := mp.NewManager()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	q, _ := m.Queue(0)
	p := mp.New(produce, q)
	p.Start()
	for range 3 {
		v, _ := q.Get(context.Background())
		fmt.Print(v, " ")
	}
	p.Join(context.Background())
	_, err = q.GetNowait()
	fmt.Println(errors.Is(err, mp.ErrEmpty))
	// Output: 0 1 2 true
}

// A registered type's exposed methods are called by name through a proxy;
// any other method is refused.
func ExampleRegisterManaged() {
	m, err := mp.NewManager()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	c, _ := m.Managed("example.counter")
	c.Call(context.Background(), "increment", 2)
	n, _ := c.Call(context.Background(), "get")
	_, err = c.Call(context.Background(), "secret")
	fmt.Println(n, errors.Is(err, mp.ErrNotAllowed))
	// Output: 2 true
}
