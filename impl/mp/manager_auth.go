package mp

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
)

// The handshake of a connection to a served manager, as CPython's
// multiprocessing.connection (3.12): the server challenges the client, then
// the client the server, each proving it knows the authkey with an HMAC of
// a random message. The digest is SHA-256, named in the message as CPython
// names it: the challenge is "#CHALLENGE#" then the message "{sha256}" and
// 40 random bytes; the answer is "{sha256}" then the HMAC of the message.
var (
	challengePrefix = []byte("#CHALLENGE#")
	digestName      = []byte("{sha256}")
	welcome         = []byte("#WELCOME#")
	failure         = []byte("#FAILURE#")
)

// A framer carries the handshake's messages: a manager's connection, or a
// Conn of a Listener (listener.go).
type framer interface {
	startFrame() []byte // an empty frame to append a message to
	writeFrame(b []byte) error
	readFrame(max int) ([]byte, error)
}

// handshakeMax is the largest handshake message (CPython's recv_bytes(256)).
const handshakeMax = 256

func digest(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return append(slices.Clone(digestName), h.Sum(nil)...)
}

// deliverChallenge sends a challenge and checks the answer; skip accepts
// any answer (ManagerSkipAuth).
func deliverChallenge(c framer, key []byte, skip bool) error {
	msg := make([]byte, len(digestName)+40)
	copy(msg, digestName)
	rand.Read(msg[len(digestName):])
	if err := c.writeFrame(append(append(c.startFrame(), challengePrefix...), msg...)); err != nil {
		return err
	}
	resp, err := c.readFrame(handshakeMax)
	if err != nil {
		return err
	}
	if !skip && !hmac.Equal(resp, digest(key, msg)) {
		c.writeFrame(append(c.startFrame(), failure...))
		return fmt.Errorf("%w: digest received was wrong", ErrAuth)
	}
	return c.writeFrame(append(c.startFrame(), welcome...))
}

// answerChallenge answers a challenge and reads the verdict.
func answerChallenge(c framer, key []byte) error {
	msg, err := c.readFrame(handshakeMax)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(msg, challengePrefix) || !bytes.HasPrefix(msg[len(challengePrefix):], digestName) {
		return fmt.Errorf("%w: not a challenge (or not one with a sha256 digest)", ErrAuth)
	}
	if err := c.writeFrame(append(c.startFrame(), digest(key, msg[len(challengePrefix):])...)); err != nil {
		return err
	}
	verdict, err := c.readFrame(handshakeMax)
	if err != nil {
		return err
	}
	if !bytes.Equal(verdict, welcome) {
		return fmt.Errorf("%w: digest sent was rejected", ErrAuth)
	}
	return nil
}
