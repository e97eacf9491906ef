// Package vigie is the root of Vigie, a real-time social listening and
// response desk. The code lives in the packages below; see README.md.
package vigie
