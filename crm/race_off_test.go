//go:build !race

package crm

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
