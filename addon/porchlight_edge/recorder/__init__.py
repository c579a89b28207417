"""Recording: pre-roll, clips, snapshots, the clip index and its storage on disk."""
