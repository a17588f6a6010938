"""The campaign pipeline's step library and its command line, ``pipeline``.

Each stage's own code lives in its own folder (``connectors/``, ``dbt_project/``, ``spark_jobs/``,
``quality/``); this package runs them, in the same way for the CLI and for the Airflow DAG
(``dags/``). One module per concern:

* ``config``: the configuration, read from the environment in one place into a frozen ``Settings``
  that everything below takes as an argument;
* ``steps``: the steps (extract-load, lake, warehouse, quality checks), each a function of the
  settings returning its metrics; the DAG's tasks and the CLI's commands call them;
* ``sync``: the sync orchestrator, ``source read | destination write`` with the state committed;
* ``dbt``: how dbt is run (project, profile, environment) by the CLI and by cosmos in the DAG;
* ``services``: the processes of a local run (the mock APIs, Airflow);
* ``secrets``: the per-installation secrets of the servers it starts;
* ``runlog``, ``summary``, ``report``: a run's log of steps, its summary, its HTML report;
* ``cli``: the ``pipeline`` command.
"""
