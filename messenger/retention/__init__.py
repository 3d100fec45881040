"""Retention: the job scheduler, leave prompts, abandoned-room cleanup, the deletion audit."""
