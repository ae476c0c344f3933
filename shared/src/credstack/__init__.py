"""Credstack: the library every service uses."""
