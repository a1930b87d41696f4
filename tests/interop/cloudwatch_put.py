#!/usr/bin/env python3
"""Writes datapoints into a CloudWatch-compatible server with boto3, for perfcert's tests.

    python cloudwatch_put.py ENDPOINT < series.json

series.json is a list of {"region", "namespace", "metric", "dimensions": {name: value},
"points": [[unix_seconds, value], ...]}. Each is sent with PutMetricData (boto3's own protocol,
so what perfcert reads back went in through another client), in batches of 500.
"""
import datetime
import json
import sys

import boto3


def main():
    endpoint = sys.argv[1]
    for series in json.load(sys.stdin):
        client = boto3.client(
            "cloudwatch",
            endpoint_url=endpoint,
            region_name=series["region"],
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        dims = [{"Name": k, "Value": v} for k, v in series["dimensions"].items()]
        data = [
            {
                "MetricName": series["metric"],
                "Dimensions": dims,
                "Timestamp": datetime.datetime.fromtimestamp(t, datetime.timezone.utc),
                "Value": v,
            }
            for t, v in series["points"]
        ]
        for i in range(0, len(data), 500):
            client.put_metric_data(Namespace=series["namespace"], MetricData=data[i : i + 500])
    print("OK")


if __name__ == "__main__":
    main()
