// Package sim is faultline's deterministic simulation core: virtual time, an
// event loop ordered by (time, insertion sequence), seeded random streams
// forked by name, exact-ratio probabilities, latency distributions and a
// running trace hash.
//
// Everything in a simulated run is a pure function of its seed because every
// other simulated package draws time, randomness and ordering from here.
// sim imports the standard library only; every other faultline package may
// import it.
package sim
