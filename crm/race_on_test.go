//go:build race

package crm

// raceEnabled is true when the tests run under the race detector, which
// makes the TWCS replay ten times slower.
const raceEnabled = true
