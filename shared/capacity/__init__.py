"""The capacity plan: the deployment modelled at a rate of uploads, against the platform's limits.

`limits` holds every documented figure and every assumption the plan uses, with its source;
`deployment` reads the sizing from infra/terraform (a tfvars file may override it);
`service_times` reads the per-stage costs measured by bench/; `simulation` runs the model
(simpy); `plan` turns a run into the per-stage table, the bottleneck and the cost.
`coughcloud capacity` prints it. Nothing here is deployed: the functions never import it.
"""
