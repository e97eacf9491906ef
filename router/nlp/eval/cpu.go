package eval

import (
	"bufio"
	"errors"
	"os"
	"strings"
)

// readCPUModel returns the CPU model name from /proc/cpuinfo (Linux).
func readCPUModel() (string, error) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v), nil
		}
	}
	return "", errors.New("no model name in /proc/cpuinfo")
}
