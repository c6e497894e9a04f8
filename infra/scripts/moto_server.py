"""moto's server with DynamoDB requests serialized.

moto runs requests on threads without isolating them, and a failed TransactWriteItems
restores whole tables from a copy taken when it started — undoing writes that other
requests committed meanwhile. Real DynamoDB isolates transactions (serializable) and never
loses a committed write, so the tests run moto with one lock around DynamoDB requests.
Everything else (SQS long polls, S3) stays concurrent.

usage: moto_server.py HOST PORT
"""
import sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

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


run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)
