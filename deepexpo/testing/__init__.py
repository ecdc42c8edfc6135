"""Test helpers for code built on DeepExPo, shared by its tests and benchmarks: a Hugging Face
Hub served on 127.0.0.1 (``loopback_hub``), tiny random-weight networks written in the published
file layouts (``tiny_liveportrait``, ``tiny_diffusion``), and the app driven in Debian's Chromium
with a fake webcam (``chromium``, ``fake_camera``, ``live_browser``; these need Playwright from
requirements-test.txt). Nothing in the library imports this package."""
