package mp_test

import (
	"context"
	"fmt"
	"log"

	"github.com/mpconform/mpconform/impl/mp"
)

func ExampleListen() {
	key := mp.ConnAuthKey([]byte("secret"))
	l, err := mp.Listen("tcp", "", key) // 127.0.0.1, a free port
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	// The peer is usually another process, given l.Addr(); here a goroutine.
	go func() {
		c, err := mp.Dial(context.Background(), "tcp", l.Addr(), key)
		if err != nil {
			log.Fatal(err) // ErrAuth for a wrong key, ErrRefused if nobody listens
		}
		defer c.Close()
		c.Send(context.Background(), "hello")
	}()
	c, err := l.Accept(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var msg string
	if err := c.Recv(context.Background(), &msg); err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg)
	// Output: hello
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
