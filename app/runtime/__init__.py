"""Runtime helpers every domain uses and none owns: the database and its migrations,
the blocking executor, background jobs and their supervisor. No HTTP, no Sanic."""
