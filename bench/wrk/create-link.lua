-- POST /v1/connect/create-link with a typical body; API_KEY comes from the environment.
wrk.method = "POST"
wrk.body = '{"end_user_email":"admin@acme.example","end_user_organization_name":"Acme, Inc.","end_user_origin_id":"36123","integration_category":"HRIS","language":"en","enable_filtering":false,"enable_field_mapping":false,"link_type":"EMBEDDED"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("API_KEY")
