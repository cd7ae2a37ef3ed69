"""Deliberately broken hooks and listeners: the kit must reject every one of them."""
