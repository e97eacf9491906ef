package replay

import (
	"errors"
	"fmt"
	"math"
)

// Config configures a Source.
type Config struct {
	// Path is the NDJSON file of mentions. Required.
	Path string
	// Rate is how many mentions a second the source emits; zero means as
	// fast as the consumer takes them.
	Rate float64
	// Name is the source's name in logs and Name() (default "replay").
	Name string
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("replay: path required")
	}
	if math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate < 0 {
		return fmt.Errorf("replay: rate %v must be a finite number >= 0", c.Rate)
	}
	if c.Name == "" {
		c.Name = "replay"
	}
	return nil
}
