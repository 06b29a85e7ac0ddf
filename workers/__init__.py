"""rq job functions, queues and the reconciler."""
