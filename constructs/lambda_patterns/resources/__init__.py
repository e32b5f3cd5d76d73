"""The secure resources that functions and patterns share: buckets, tables, queues, topics, streams, REST APIs."""
