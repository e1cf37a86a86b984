"""`make cost`: what a stored post costs on AWS, measured by replaying recorded cascades on the
embedded local AWS and counting every request (see docs/scale.md, "Measuring: make cost")."""
