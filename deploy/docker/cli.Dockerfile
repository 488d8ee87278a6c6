# The operator CLI (bin/horizons) as an image, for docker-compose.yml's init, submit and generator services.
#   docker build -f deploy/docker/cli.Dockerfile -t cosmic-horizons/cli:0.1.0-SNAPSHOT .
# Single stage on purpose: bin/horizons runs from the build output and the Maven repository it resolved.
FROM maven:3.9-eclipse-temurin-17
WORKDIR /opt/horizons
COPY . .
RUN mvn -B -q -ntp package -DskipTests
ENV HORIZONS_SKIP_BUILD=1
ENTRYPOINT ["/opt/horizons/bin/horizons"]
