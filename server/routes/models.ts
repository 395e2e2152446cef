/** The catalog: model list, bundle facts, rdf.yaml, and the consumer zip (cached, ETag/304). */
import { Router } from 'express';
import { parseProfiles } from '../../exporters/index.js';
import type { Ctx } from '../context.js';
import { ServeError } from '../errors.js';
import { modelFacts } from '../model-facts.js';

export function modelRoutes(ctx: Ctx): Router {
  const r = Router();
  r.get('/models', (_req, res) => {
    res.json({
      models: ctx.catalog.ids.map((id) => {
        const f = modelFacts(id, ctx.catalog.get(id).bundle);
        return { id, name: f.name, task: f.task, variant: f.variant, trained: f.trained };
      }),
    });
  });
  r.get('/models/:id', (req, res) => {
    res.json(modelFacts(req.params.id, ctx.catalog.get(req.params.id).bundle));
  });
  r.get('/models/:id/rdf.yaml', async (req, res) => {
    const entry = ctx.catalog.get(req.params.id);
    res.type('application/yaml').send(await ctx.zips.rdfYaml(entry));
  });
  r.get('/models/:id/download', async (req, res) => {
    const entry = ctx.catalog.get(req.params.id);
    const q = req.query.for;
    if (q !== undefined && typeof q !== 'string') {
      throw new ServeError('InvalidArgument', "query 'for' must appear once", {
        hint: 'use ?for=ilastik, ?for=fiji or ?for=ilastik,fiji',
      });
    }
    let profiles: ReturnType<typeof parseProfiles>;
    try {
      profiles = parseProfiles(q);
    } catch (err) {
      throw new ServeError('InvalidArgument', (err as Error).message, {
        hint: 'use ?for=ilastik, ?for=fiji or ?for=ilastik,fiji',
      });
    }
    const zip = await ctx.zips.get(entry, profiles);
    res.setHeader('ETag', zip.etag);
    res.setHeader('Cache-Control', 'public, max-age=0, must-revalidate');
    const inm = req.headers['if-none-match'];
    if (inm?.split(',').some((t) => t.trim() === zip.etag || t.trim() === '*')) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Length', String(zip.size));
    res.setHeader('Content-Disposition', `attachment; filename="${entry.bundle.id}.zip"`);
    await new Promise<void>((resolve, reject) => {
      const s = ctx.zips.stream(zip);
      s.on('error', reject);
      res.on('close', () => {
        s.destroy();
        resolve();
      });
      s.pipe(res);
    });
  });
  return r;
}
