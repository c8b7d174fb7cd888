-- GET /healthz: the baseline every other endpoint is compared with.
wrk.method = "GET"
