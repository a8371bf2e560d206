"""One small module per stage; each exposes `NAME` and `run(work, env) -> (disposition, work)`."""
