"""Evaluation and batch modes: self-reenactment ("reconstruction") and cross-reenactment
scored with an independent face model (dlib), and batch animation of a pairs list."""
