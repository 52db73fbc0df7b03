"""Comparison servers for bench/sse_fanout.py: the same Redis channel, other stacks."""
