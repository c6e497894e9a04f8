"""moto's server with DynamoDB requests serialized.

moto runs requests on threads without isolating them, and a failed TransactWriteItems
restores whole tables from a copy taken when it started — undoing writes that other
requests committed meanwhile. Real DynamoDB isolates transactions (serializable) and never
loses a committed write, so the tests run moto with one lock around DynamoDB requests.
Everything else (SQS long polls, S3) stays concurrent.

A failed transaction is also made to leave the table's stream as it was: moto restores
the table from a copy, stream included, but a stream reader holding an iterator keeps
the live shard, where the failed writes' records stayed (a reader would relay changes that
never happened, and then skip as many real ones, whose sequence numbers the restored
copy reuses). Real DynamoDB writes nothing of a cancelled transaction, to the table or
its stream. Here a transaction backs up the items it touches instead of copying whole
tables, and a failed one puts them back and cuts the stream's shard to where it was. A
query no longer sorts the whole table first.

usage: moto_server.py HOST PORT
"""
import sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

import copy
import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table


class _TablesNotCopied:
    """`copy` for moto's DynamoDB backend, except that a table is not deep-copied: moto
    copies every table a transaction names before each transaction (seconds for a table
    of 100,000 items); the wrapper below backs up only the items the transaction touches."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(x, memo=None):
        return x if isinstance(x, Table) else copy.deepcopy(x, memo)


dynamodb_models.copy = _TablesNotCopied()
_transact = DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    touched = []
    for t in transact_items:
        _, op = next(iter(t.items()))
        table = self.tables.get(op.get("TableName"))
        if table is None:
            continue
        if "Item" in op:
            keys = {k: op["Item"][k] for k in (table.hash_key_attr, table.range_key_attr)
                    if k is not None and k in op["Item"]}
        else:
            keys = op.get("Key")
        try:
            h, r = self.get_keys_value(table, keys)
        except Exception:
            continue  # moto refuses the request itself
        touched.append((table, h, r, copy.deepcopy(table.get_item(h, r))))
    shards = {name: (t.stream_shard, len(t.stream_shard.items))
              for name, t in self.tables.items() if t.stream_shard is not None}
    try:
        return _transact(self, transact_items)
    except Exception:
        # Put back the items as they were, then the shard readers hold without the
        # records of the writes undone.
        for table, h, r, item in reversed(touched):
            if table.has_range_key:
                if item is None:
                    table.items[h].pop(r, None)
                else:
                    table.items[h][r] = item
            elif item is None:
                table.items.pop(h, None)
            else:
                table.items[h] = item
        for name, (shard, n) in shards.items():
            del shard.items[n:]
            table = self.tables.get(name)
            if table is not None:
                table.stream_shard = shard
                shard.table = table
        raise


DynamoDBBackend.transact_write_items = transact_write_items

_query = Table.query


def _unsorted_items(table):
    if table.range_key_attr:
        return [item for part in table.items.values() for item in part.values()]
    return list(table.items.values())


def query(self, *args, **kwargs):
    # moto's query sorts every item of the table before filtering (minutes per query for
    # a table of 100,000 items); it sorts what it keeps anyway, so hand it them unsorted.
    self.all_items = lambda: _unsorted_items(self)
    try:
        return _query(self, *args, **kwargs)
    finally:
        del self.all_items


Table.query = query

host, port = sys.argv[1], int(sys.argv[2])
app = DomainDispatcherApplication(create_backend_app)
dynamodb = threading.Lock()


def serialized(environ, start_response):
    # DynamoDB_20120810 and DynamoDBStreams_20120810: a stream read never sees a
    # transaction half applied (moto appends its records as it goes, then restores the
    # table, stream included, from its copy when the transaction fails).
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
        with dynamodb:
            return list(app(environ, start_response))
    return app(environ, start_response)


# IAM as AWS evaluates it, conditions included, for requests signed with an assumed
# role's credentials (each function's, in the tests): see iam_guard.py.
sys.path.insert(0, __import__("os").path.dirname(__file__))
from iam_guard import IamGuard

run_simple(host, port, IamGuard(serialized), threaded=True, request_handler=MotoRequestHandler)
