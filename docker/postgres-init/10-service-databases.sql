-- The services' own databases on the services' PostgreSQL (the CDM has its own server): Airflow's metadata
-- and MLflow's tracking store and registry. Run once by the postgres image on an empty data directory.
create user airflow with password 'airflow';
create database airflow owner airflow;
create user mlflow with password 'mlflow';
create database mlflow owner mlflow;
