"""The opt-in distributed group: a real local TensorFlow cluster (spec/distributed.md)."""
