"""Local development support: the emulator harness shared by tests, the demo and benchmarks."""
