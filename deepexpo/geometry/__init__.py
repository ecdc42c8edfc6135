"""Geometry and signal types with no notion of a face: pixel boxes and filters. Every layer
(face detection, motion, rendering, engines) builds on them; they import nothing of ours but
the settings."""
