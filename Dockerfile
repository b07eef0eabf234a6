# tokenledger on a Debian-slim Node image: the KurrentDB client's native part does not run on Alpine.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 falls back to a source build when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY commands ./commands
COPY projections ./projections
# The KurrentDB and PostgreSQL drivers are optional peer dependencies of the package (a middleware user
# on SQLite never installs them); the image serves every TOKENLEDGER_STORE scheme, so it adds both, at
# the versions package.json names. (--save-prod: they are devDependencies too, which --omit=dev would skip.)
RUN npm ci && npm prune --omit=dev \
 && npm install --no-save --save-prod --omit=dev --no-audit --no-fund \
      $(node -p "const p = require('./package.json').peerDependencies; ['@kurrent/kurrentdb-client', 'pg'].map((n) => n + '@' + p[n]).join(' ')")

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000
COPY --from=build /app/package.json /app/oclif.manifest.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
RUN ln -s /app/bin/run.js /usr/local/bin/tokenledger
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["tokenledger", "serve"]
