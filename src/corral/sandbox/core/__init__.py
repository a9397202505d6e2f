"""The sandbox's shared machinery: wire protocols, clock and timers, errors, throttling."""
