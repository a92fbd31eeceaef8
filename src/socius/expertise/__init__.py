"""Expertise: profile tags from oneself and colleagues, the expert finder, the team builder, skills coverage."""
