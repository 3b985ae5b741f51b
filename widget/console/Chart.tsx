/**
 * A time-series chart drawn by uPlot (loaded on demand, so sign-in and forms never wait for it),
 * with a caption and a data table for those who would rather read than look.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type uPlotType from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: (number | null)[];
  colour: string;
  /** Bars rather than a line. */
  bars?: boolean;
}

export interface ChartProps {
  title: string;
  /** Bucket labels: "2026-03-01" (days) or "2026-03" (months). */
  buckets: string[];
  series: Series[];
  format?: (value: number) => string;
  height?: number;
  /** The value axis' fixed extent (NPS runs from -100 to 100); else it follows the data. */
  range?: readonly [number, number];
}

const toSeconds = (bucket: string) => Date.parse(bucket.length === 7 ? `${bucket}-01T00:00:00Z` : `${bucket}T00:00:00Z`) / 1000;

let uPlotModule: Promise<typeof uPlotType> | null = null;
const loadUPlot = () => {
  uPlotModule ??= import("uplot").then((module) => module.default);
  return uPlotModule;
};

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    let plot: uPlotType | null = null;
    let observer: ResizeObserver | null = null;
    let live = true;
    loadUPlot().then(
      (uPlot) => {
        if (!live) return;
        try {
          draw(uPlot);
        } catch {
          setFailed(true);
        }
      },
      () => live && setFailed(true),
    );
    function draw(uPlot: typeof uPlotType) {
      if (!element) return;
      const format = props.format ?? ((v: number) => String(v));
      const width = Math.max(280, element.clientWidth);
      plot = new uPlot(
        {
          width,
          height: props.height ?? 220,
          series: [
            {},
            ...props.series.map((s) => ({
              label: s.label,
              stroke: s.colour,
              fill: s.bars ? `${s.colour}55` : undefined,
              width: 2,
              spanGaps: false,
              value: (_: unknown, v: number | null) => (v === null ? "–" : format(v)),
              ...(s.bars ? { paths: uPlot.paths.bars?.({ size: [0.6, 40] }), points: { show: false } } : {}),
            })),
          ],
          axes: [{}, { values: (_: unknown, ticks: number[]) => ticks.map(format), size: 64 }],
          scales: { x: { time: true }, ...(props.range ? { y: { range: [props.range[0], props.range[1]] as [number, number] } } : {}) },
          legend: { live: true },
        },
        [props.buckets.map(toSeconds), ...props.series.map((s) => s.values)] as uPlotType.AlignedData,
        element,
      );
      observer = new ResizeObserver(() => plot?.setSize({ width: Math.max(280, element.clientWidth), height: props.height ?? 220 }));
      observer.observe(element);
    }
    return () => {
      live = false;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [props.buckets, props.series]);

  const format = props.format ?? ((v: number) => String(v));
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div class="plot" ref={box} role="img" aria-label={`${props.title}: chart; the data follows in a table.`} />
      {failed && <p class="field-error">The chart could not be drawn; the data is in the table below.</p>}
      <details>
        <summary>Data for “{props.title}”</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Period</th>
              {props.series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.buckets.map((bucket, i) => (
              <tr key={bucket}>
                <th scope="row">{bucket}</th>
                {props.series.map((s) => (
                  <td key={s.label}>{s.values[i] === null || s.values[i] === undefined ? "–" : format(s.values[i]!)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
