"""Every place where this project touches faust, in one package: audit it on a faust upgrade.

- `declare`: the App's settings, raw-bytes topics and JSON tables.
- `produce`: records sent with the app's producer, not `Topic.send` (whose start-producer
  wrapper yields to the loop three times a record); a failed send stops the worker.
- `batches`: the worker's outputs and changelog records appended to one aiokafka batch per
  partition, handed over every 25 ms and before faust's commit; a failed batch stops it.
- `tables`: table writes straight to the store, their changelog records sent through the
  worker's batches on the source event's partition, in the bytes faust's recovery reads back.
- `gate`: an actor's first record waits until its topics show in the consumer's metadata.
- `seek`: the consumer's offset bookkeeping repaired around rebalances: partitions the group
  never committed are sought too, repeated acknowledgements and ranges read again outside
  faust do not hold the commit back.
- `fetch`: the consumer's fetch wait, 50 ms instead of faust's hard-coded 1.5 s.
- `inloop`: the consumer "thread" run as a task of the process's event loop, not in a thread:
  no hop between two loops a fetch, no turns at the GIL between the consumer and the agents.
- `drain`: each fetched record handed to its agent at once, not through faust's four-task
  `wait_first` (which still takes a hand-over that has to wait, so a rebalance can abandon it).
- `flow`: faust's flow control, whose second resume in a recovery no longer empties the
  agents' buffers of the records handed over during its seek.
- `monitor`: faust's Monitor sensor without its per-record hooks (they feed only `/stats`).
- `intake`: the replay lane's records set aside in the consumer and handed to faust a few at
  a time, live records at once.
- `runtime`: uvloop, the consumer's assignment and its flow control.
- `connection`: aiokafka's send made to report a write to a socket uvloop closed as a
  connection error (aiokafka expects asyncio's behaviour; uvloop raises RuntimeError).
- `metadata`: aiokafka's metadata task restarted after a failed update instead of ending.
- `patch`: how `connection` and `metadata` replace an aiokafka method (once, original kept).

tests/stream_app/test_faust_*.py check each assumption against the installed faust, and
pyproject.toml pins faust-streaming to the versions tested.
"""
