"""Lambda as the stand-in invokes it: a pool of containers per function (`containers`), each a process running the
runtime loop (`runtime`) around the real handler."""
