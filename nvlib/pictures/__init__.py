"""Pictures: valence-arousal plots (timelines, the emotion wheel) and the interactive event explorer."""
