# The image of deploy/k8s/flinkdeployment.yaml: the official Flink 2.2 image plus the shaded job jar in usrlib/
# (application mode: the Kubernetes operator runs one job per FlinkDeployment from local:///opt/flink/usrlib/...).
#   mvn -B package -DskipTests
#   docker build -f deploy/docker/job.Dockerfile -t <registry>/cosmic-horizons/horizons-jobs:0.1.0-SNAPSHOT .
FROM flink:2.2.1-scala_2.12-java17
COPY --chown=flink:flink jobs/target/horizons-jobs-0.1.0-SNAPSHOT-job.jar /opt/flink/usrlib/horizons-jobs-job.jar
