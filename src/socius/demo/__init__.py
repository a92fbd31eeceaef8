"""Demo data: a believable bilingual company for trying Socius, and fast synthetic seeding for benchmarks."""
