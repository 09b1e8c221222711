"""The overview: the console's home, with the figures of the whole customer base and what needs attention."""
