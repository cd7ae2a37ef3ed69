"""An example third-party package with a checkpoint hook and a listener."""
