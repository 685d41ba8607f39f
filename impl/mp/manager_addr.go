package mp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A manager's tcp address is an IPv4 host and a port. It is parsed here, with
// net/netip, and not with package net: net links the C resolver into every
// program that imports it, and a dynamically linked binary takes about a
// millisecond longer to execute, which every child started pays.

// splitHostPort splits "host:port"; either may be empty.
func splitHostPort(address string) (host, port string, err error) {
	i := strings.LastIndexByte(address, ':')
	if i < 0 {
		return "", "", fmt.Errorf("address %q: missing port", address)
	}
	return address[:i], address[i+1:], nil
}

// inet4 returns the socket address of an IPv4 host and port.
func inet4(host string, port int) (*unix.SockaddrInet4, error) {
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().Is4() {
		return nil, fmt.Errorf("%q is not an IPv4 address", host)
	}
	return &unix.SockaddrInet4{Port: port, Addr: ip.Unmap().As4()}, nil
}

// joinHostPort is the inverse of splitHostPort for an IPv4 host.
func joinHostPort(host string, port int) string { return host + ":" + strconv.Itoa(port) }
