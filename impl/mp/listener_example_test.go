package mp_test

import (
	"context"
	"fmt"
	"log"

	"github.com/mpconform/mpconform/impl/mp"
)

// hello dials the address it is given and sends one message.
var hello = mp.Register("example.hello", func(addr string) error {
	c, err := mp.Dial(context.Background(), "tcp", addr, mp.ConnAuthKey([]byte("secret")))
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Send(context.Background(), "hello from "+mp.Current().Name)
})

func ExampleListen() {
	l, err := mp.Listen("tcp", "", mp.ConnAuthKey([]byte("secret"))) // 127.0.0.1, a free port
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	p := mp.New(hello, l.Addr(), mp.Name("greeter"))
	if err := p.Start(); err != nil {
		log.Fatal(err)
	}
	c, err := l.Accept(context.Background()) // fails with ErrAuth for a wrong key
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var msg string
	if err := c.Recv(context.Background(), &msg); err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg)
	p.Join(context.Background())
	// Output: hello from greeter
}

func ExampleWait() {
	a0, a1, _ := mp.Pipe(true)
	b0, b1, _ := mp.Pipe(true)
	defer func() { a0.Close(); a1.Close(); b0.Close(); b1.Close() }()
	b1.Send(context.Background(), 42)
	ready, err := mp.Wait(context.Background(), a0, b0) // b0 only: nothing was sent to a0
	if err != nil {
		log.Fatal(err)
	}
	for _, w := range ready {
		var n int
		w.(*mp.Conn).Recv(context.Background(), &n)
		fmt.Println(w == b0, n)
	}
	// Output: true 42
}
