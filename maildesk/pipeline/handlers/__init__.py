"""One small module per handler; each exposes `NAME` and `run(work, env) -> (disposition, work)`."""
