package intake

import (
	"errors"
	"fmt"
)

// Config configures the intake log.
type Config struct {
	// Path is the SQLite file. Required.
	Path string
	// MaxBatchItems bounds how many items one group commit takes
	// (default 20,000: a commit of that size takes tens of milliseconds).
	MaxBatchItems int
	// TailRecords is how many recent records, at least, are kept in memory
	// for readers (up to twice as many between trims; default 65,536: a few
	// seconds of a burst, some tens of MB).
	TailRecords int
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("intake: path required")
	}
	if c.MaxBatchItems == 0 {
		c.MaxBatchItems = 20_000
	}
	if c.TailRecords == 0 {
		c.TailRecords = 65_536
	}
	if c.MaxBatchItems < 1 || c.TailRecords < 1 {
		return fmt.Errorf("intake: batch (%d) and tail (%d) must be positive", c.MaxBatchItems, c.TailRecords)
	}
	return nil
}
