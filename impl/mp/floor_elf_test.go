package mp_test

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"unsafe"
)

var errNoExitELF = errors.New("floor: no exit-only executable for this GOARCH")

// exitCode is, for each GOARCH, machine code that calls exit(0) and its
// ELF machine.
var exitCode = map[string]struct {
	machine elf.Machine
	code    []byte
}{
	// mov eax, 60 (exit); xor edi, edi; syscall
	"amd64": {elf.EM_X86_64, []byte{0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05}},
	// mov x8, #93 (exit); mov x0, #0; svc #0
	"arm64": {elf.EM_AARCH64, []byte{
		0xa8, 0x0b, 0x80, 0xd2,
		0x00, 0x00, 0x80, 0xd2,
		0x01, 0x00, 0x00, 0xd4,
	}},
}

// exitELF is a static executable that only exits, for this GOARCH: an ELF
// header, one loadable segment of the whole file, and the code. It is what
// the kernel's exec costs, with no dynamic loader and no runtime start-up.
func exitELF() ([]byte, error) {
	arch, ok := exitCode[runtime.GOARCH]
	if !ok {
		return nil, fmt.Errorf("%w (%s)", errNoExitELF, runtime.GOARCH)
	}
	const base = 0x400000
	hsize, psize := uint64(unsafe.Sizeof(elf.Header64{})), uint64(unsafe.Sizeof(elf.Prog64{}))
	size := hsize + psize + uint64(len(arch.code))
	h := elf.Header64{
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(arch.machine),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     base + hsize + psize,
		Phoff:     hsize,
		Ehsize:    uint16(hsize),
		Phentsize: uint16(psize),
		Phnum:     1,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	p := elf.Prog64{
		Type:   uint32(elf.PT_LOAD),
		Flags:  uint32(elf.PF_R | elf.PF_X),
		Vaddr:  base,
		Paddr:  base,
		Filesz: size,
		Memsz:  size,
		Align:  0x1000,
	}
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, h) // a bytes.Buffer takes any write
	binary.Write(&buf, binary.LittleEndian, p)
	buf.Write(arch.code)
	return buf.Bytes(), nil
}

// writeExitELF writes exitELF into dir, executable, and returns its path.
func writeExitELF(dir string) (string, error) {
	exe, err := exitELF()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "exit")
	if err := os.WriteFile(path, exe, 0o755); err != nil {
		return "", fmt.Errorf("floor: %w", err)
	}
	return path, nil
}
